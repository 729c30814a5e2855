//! The `clustersim` binary: a thin shell around [`clustersim::cli`].

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    clustersim::cli::main_with_args(std::env::args_os())
}
