use detest::detest;

#[detest(expect_message = "overflow")]
fn t() {}

fn main() {}
