use detest::detest;

#[detest(seeds = 10, speed = 3)]
fn t() {}

fn main() {}
