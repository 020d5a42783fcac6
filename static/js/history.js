// The cluster's history on the page: the change log, and the cluster as it was after any change of it.
//
// The log comes from the history endpoint (`GET /sim/clusters/<name>/history`, paged) once, and grows from the
// live stream afterwards: a live event is added at once with the page's clock as its time ("provisional"), and the
// endpoint's own entry (its exact simulated time and who made it) replaces it on the next catch-up (`load` of the
// pages `after` the last exact resourceVersion). Like etcd's, the history may be compacted: the changes at or before
// `compactedVersion` that a later one replaces are gone, so the cluster can be rebuilt at any resourceVersion from
// `compactedVersion` on, by applying the changes in order to an empty cluster.
//
// Scrubbing moves a cursor over the log: `seek(position)` applies (forwards) or unapplies (backwards) the changes
// between the cursor and the target, or starts from the nearest checkpoint (a copy of the state every
// CHECKPOINT_EVERY changes) when that is closer, so a step costs the changes it crosses, not the whole log. Every
// entry keeps the object its key held before it (`prev`), which is what unapplying it puts back.
//
// A position p means "after the first p changes" (0: the empty cluster before the first change). Entries of kinds
// the page does not show are left out. Nothing here touches the DOM: tests/dashboard/test_history_js.py runs it in
// Node.

export const CHECKPOINT_EVERY = 1000;

function keyOf(obj) {
  const meta = obj.metadata || {};
  return meta.namespace ? `${meta.namespace}/${meta.name}` : meta.name;
}

function copyObjects(objects) {
  const out = {};
  for (const [kind, byKey] of Object.entries(objects)) out[kind] = { ...byKey };
  return out;
}

function emptyObjects(kinds) {
  const out = {};
  for (const kind of kinds) out[kind] = {};
  return out;
}

function timeMs(value) {
  const ms = Date.parse(value || "");
  return Number.isNaN(ms) ? null : ms;
}

export class Timeline {
  /** `kinds`: the kinds the page keeps (the others' changes are left out). */
  constructor(kinds, { checkpointEvery = CHECKPOINT_EVERY } = {}) {
    this.kinds = [...kinds];
    this.shown = new Set(this.kinds);
    this.checkpointEvery = checkpointEvery;
    this.entries = [];
    this.byRv = new Map(); // resourceVersion → entry
    this.end = emptyObjects(this.kinds); // the state after every entry
    this.checkpoints = [{ position: 0, objects: emptyObjects(this.kinds) }];
    this.exactThrough = 0; // the endpoint's entries reach this resourceVersion (the rest is provisional)
    this.compactedVersion = 0;
    this.oldest = null; // {resourceVersion, time (ms)}
    this.now = null; // the server's simulated now (ms) when the last page came
    this.loaded = false; // a whole first load (every page) went in
    this.cursor = null; // {position, objects}: built on the first seek
    this.handed = null; // the objects last handed out by seek (kinds' maps are replaced only when touched)
  }

  get length() {
    return this.entries.length;
  }

  /** The first position the history can rebuild: after every kept change at or before compactedVersion. */
  get minPosition() {
    return this.positionOfRv(this.compactedVersion);
  }

  /** The number of entries at or before resourceVersion `rv`. */
  positionOfRv(rv) {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.entries[mid].rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The number of entries at or before simulated time `ms` (the position the time bar's `ms` shows). */
  positionAt(ms) {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.entries[mid].time <= ms) lo = mid + 1;
      else hi = mid;
    }
    return Math.max(lo, this.minPosition);
  }

  /** The simulated time (ms) of the state at `position`: its last change's, or the oldest kept instant. */
  timeOf(position) {
    if (position > 0 && position <= this.entries.length) return this.entries[position - 1].time;
    return this.oldest ? this.oldest.time : (this.entries.length ? this.entries[0].time : null);
  }

  /** The resourceVersion of the state at `position`. */
  rvOf(position) {
    if (position > 0 && position <= this.entries.length) return this.entries[position - 1].rv;
    return this.compactedVersion;
  }

  entry(position) {
    return this.entries[position - 1];
  }

  // -- growing the log ----------------------------------------------------------------------------------------

  /**
   * Take one page of the history endpoint's answer. Entries the log already has (provisional ones from the live
   * stream) get their exact time and actor; newer ones are added. Answers whether the log had to be rebuilt (an
   * entry older than the last one arrived: the cursor starts again).
   */
  load(page) {
    this.compactedVersion = Math.max(this.compactedVersion, Number(page.compactedVersion || 0));
    if (page.oldest) {
      this.oldest = { resourceVersion: Number(page.oldest.resourceVersion || 0), time: timeMs(page.oldest.time) };
    }
    if (page.now) this.now = timeMs(page.now);
    let disorder = false;
    for (const change of page.changes || []) {
      const rv = Number(change.resourceVersion);
      const time = timeMs(change.time);
      if (rv > this.exactThrough) this.exactThrough = rv;
      const known = this.byRv.get(rv);
      if (known) {
        known.time = time ?? known.time;
        known.actor = change.actor ?? null;
        known.provisional = false;
        continue;
      }
      if (!this.shown.has(change.kind)) continue;
      const entry = {
        rv, type: change.type, kind: change.kind, key: keyOf(change.object), time, actor: change.actor ?? null,
        object: change.object, prev: null, provisional: false,
      };
      if (this.entries.length && rv < this.entries[this.entries.length - 1].rv) {
        this.entries.push(entry);
        this.byRv.set(rv, entry);
        disorder = true;
      } else {
        this.append(entry);
      }
    }
    if (disorder) this.rebuild();
    else this.smoothTimes();
    return disorder;
  }

  /** Add a live stream `event` message, stamped with the page's simulated time `ms` until the endpoint says. */
  appendLive(message, ms) {
    if (message.type !== "event" || !this.shown.has(message.kind)) return false;
    const rv = Number(message.resourceVersion);
    if (this.byRv.has(rv) || (this.entries.length && rv <= this.entries[this.entries.length - 1].rv)) return false;
    const last = this.entries[this.entries.length - 1];
    this.append({
      rv, type: message.event, kind: message.kind, key: keyOf(message.object),
      time: Math.max(ms, last ? last.time : -Infinity), actor: null, object: message.object, prev: null,
      provisional: true,
    });
    return true;
  }

  append(entry) {
    const byKey = this.end[entry.kind];
    entry.prev = byKey[entry.key] ?? null;
    if (entry.type === "DELETED") delete byKey[entry.key];
    else byKey[entry.key] = entry.object;
    this.entries.push(entry);
    this.byRv.set(entry.rv, entry);
    if (this.entries.length % this.checkpointEvery === 0) {
      this.checkpoints.push({ position: this.entries.length, objects: copyObjects(this.end) });
    }
  }

  /** Sort the log by resourceVersion and compute every entry's `prev` and the checkpoints again. */
  rebuild() {
    const entries = this.entries.sort((a, b) => a.rv - b.rv);
    this.entries = [];
    this.byRv = new Map();
    this.end = emptyObjects(this.kinds);
    this.checkpoints = [{ position: 0, objects: emptyObjects(this.kinds) }];
    for (const entry of entries) this.append(entry);
    this.smoothTimes();
    this.cursor = null;
    this.handed = null;
  }

  // Simulated time never goes back: a provisional time (the page's clock) is at least its predecessor's.
  smoothTimes() {
    let last = -Infinity;
    for (const entry of this.entries) {
      if (entry.time === null || entry.time < last) entry.time = last === -Infinity ? entry.time : last;
      last = entry.time ?? last;
    }
  }

  // -- the cursor ---------------------------------------------------------------------------------------------

  /**
   * Move the cursor to `position` (clamped to [minPosition, length]) and answer `{position, objects, touched}`:
   * `objects` the state's objects ({kind: {key: object}}; a kind's map is a new object only when one of its objects
   * changed since the last seek, like the live reducer's), `touched` a Map of "kind\u0000key" → {kind, key, before,
   * after} for what changed since the last seek, or null when the state was rebuilt from a checkpoint (everything
   * may have changed).
   */
  seek(position) {
    const target = Math.max(this.minPosition, Math.min(this.entries.length, position));
    if (!this.cursor) {
      this.cursor = { position: this.entries.length, objects: copyObjects(this.end) };
      this.handed = null;
    }
    const from = this.cursor.position;
    const checkpoint = this.checkpoints[Math.min(this.checkpoints.length - 1, Math.floor(target / this.checkpointEvery))];
    const viaCheckpoint = target - checkpoint.position + this.checkpointEvery / 2 < Math.abs(target - from);
    let touched = new Map();
    if (viaCheckpoint) {
      this.cursor = { position: checkpoint.position, objects: copyObjects(checkpoint.objects) };
      touched = null;
    }
    const objects = this.cursor.objects;
    const note = (entry, before, after) => {
      if (!touched) return;
      const id = `${entry.kind}\u0000${entry.key}`;
      const seen = touched.get(id);
      if (seen) seen.after = after;
      else touched.set(id, { kind: entry.kind, key: entry.key, before, after });
    };
    let at = this.cursor.position;
    while (at < target) {
      const entry = this.entries[at];
      const byKey = objects[entry.kind];
      const before = byKey[entry.key];
      if (entry.type === "DELETED") delete byKey[entry.key];
      else byKey[entry.key] = entry.object;
      note(entry, before, byKey[entry.key]);
      at += 1;
    }
    while (at > target) {
      at -= 1;
      const entry = this.entries[at];
      const byKey = objects[entry.kind];
      const before = byKey[entry.key];
      if (entry.prev === null) delete byKey[entry.key];
      else byKey[entry.key] = entry.prev;
      note(entry, before, byKey[entry.key]);
    }
    this.cursor.position = target;
    // Hand out new maps for the kinds that changed only (the views compare them by identity).
    const kindsTouched = touched ? new Set([...touched.values()].map((t) => t.kind)) : new Set(this.kinds);
    const handed = {};
    for (const kind of this.kinds) {
      handed[kind] = !this.handed || kindsTouched.has(kind) ? { ...objects[kind] } : this.handed[kind];
    }
    this.handed = handed;
    return { position: target, objects: handed, touched };
  }

  /** The state's objects at `position`, computed from scratch (the plain path the tests compare seek with). */
  replay(position) {
    const objects = emptyObjects(this.kinds);
    for (const entry of this.entries.slice(0, position)) {
      if (entry.type === "DELETED") delete objects[entry.kind][entry.key];
      else objects[entry.kind][entry.key] = entry.object;
    }
    return objects;
  }
}
