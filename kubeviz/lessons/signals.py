"""Signals of the lesson player.

``progress_changed`` is sent (with ``progress``, a ``LessonProgress``) after a learner's run of a lesson changed in
a way a teacher watches: a step begun or passed, a hint revealed, a prediction committed, an apply refused or
accepted. The classroom's live grid listens (``kubeviz.classroom.grid``); the lesson player knows nothing of it.
It is sent inside the transaction that made the change: a receiver that publishes waits for the commit.
"""

from django.dispatch import Signal

progress_changed = Signal()
