use detest::detest;

#[detest(seeds = 100, chaos, expect = "hang")]
fn t() {}

fn main() {}
