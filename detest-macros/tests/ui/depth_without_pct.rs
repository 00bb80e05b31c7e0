use detest::detest;

#[detest(seeds = 100, chaos, depth = 3)]
fn t() {}

fn main() {}
