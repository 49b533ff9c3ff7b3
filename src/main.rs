//! Thin entry point: parse the command line and hand over to the library.

use clap::Parser;

/// mimalloc instead of the system allocator: a request allocates many small
/// short-lived values on one thread and frees them on another, where glibc's
/// malloc spent a tenth of the CPU of an article read (see docs/BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = newsdesk::cli::Cli::parse();
    match newsdesk::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
