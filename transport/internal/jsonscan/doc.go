// Package jsonscan is a small, allocation-aware JSON scanner for the
// Phoenix serializers.
//
// It does three things only: it finds where one JSON value ends while
// checking that it is well formed ([Skip], [Valid]); it reads JSON strings,
// including escapes, \uXXXX sequences and surrogate pairs ([ScanString],
// [AppendUnescaped], [String]); and it writes Go strings as JSON string
// literals ([AppendString]). It never builds a tree and never uses
// reflection, so finding the bounds of a payload costs a single pass over its
// bytes and no allocation.
//
// Errors are of type [*Error] and carry the byte offset where the input went
// wrong. Invalid UTF-8 inside strings is accepted as is, like most decoders
// that do not transcode.
package jsonscan
