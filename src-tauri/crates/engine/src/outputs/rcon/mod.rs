//! RCON output.
