use detest::detest;

#[detest(chaos, policy = "pct")]
fn t() {}

fn main() {}
