/// The allocator the `archc` binary uses (many small strings: mimalloc keeps them close).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(archc::run(std::env::args_os()));
}
