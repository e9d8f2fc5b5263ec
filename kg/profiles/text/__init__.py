"""Words from the graph: profile texts, segment names and reason sentences written by a language model (or the
template) from one subject's graph facts, every sentence checked against those facts before it is stored."""
