//! Baselines kept for comparison with the paper.

pub mod perstream;
