"""The dashboard's kubectl console: the real kubectl, run by the server on the learner's behalf against one cluster
(``commands``: what may run; ``runner``: how it runs; ``views``: ``POST /sim/clusters/<name>/console``)."""
