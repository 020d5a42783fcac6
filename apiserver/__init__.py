"""A small Kubernetes API server, without Django: the resource table, defaulting, validation, admission,
optimistic concurrency and deletion (``registry``), patches, server-side printing, the OpenAPI documents,
discovery, protobuf decoding, manifests and YAML apply, over a ``storage.Storage`` (``MemoryStorage`` here, the
database one in ``kubeviz.store``). ``kubeviz.api`` serves it over HTTP."""
