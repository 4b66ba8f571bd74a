//! End-to-end tests live beside this file; the library is empty.
