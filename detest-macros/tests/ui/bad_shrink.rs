use detest::detest;

#[detest(seeds = 10, shrink = "no")]
fn t() {}

fn main() {}
