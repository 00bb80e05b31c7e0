use detest::detest;

#[detest(timeout = "10 seconds")]
fn t() {}

fn main() {}
