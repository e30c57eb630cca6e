"""Training Castmaker's own cast networks against the procedural cast (torch; no Qt).

`configs` names the two networks and which w rows read which factors, `batches` draws band-mixed training
batches, `trainer` runs the resumable training loop, `mapping_fit` fits the mapping network z → w, and
`finalize` writes the ordinary network file every other feature opens.
"""
