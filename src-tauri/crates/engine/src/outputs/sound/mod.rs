//! Sound output.
