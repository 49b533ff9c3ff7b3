//! Demo and benchmark content (filled in below).
