fn main() {
    let args = cargo_detest::cli::normalize_args(std::env::args_os().collect());
    std::process::exit(cargo_detest::main_with_args(args));
}
