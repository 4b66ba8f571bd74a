fn main() -> std::process::ExitCode {
    mxlab_cli::main_with(std::env::args_os())
}
