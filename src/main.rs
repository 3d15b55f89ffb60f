fn main() {
    std::process::exit(archc::run(std::env::args_os()));
}
