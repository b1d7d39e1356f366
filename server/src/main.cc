// The instant binary: argv -> CLI (cli/cli.h) -> node. Nothing else lives here.
#include "cli/cli.h"

int main(int argc, char** argv) { return instant::cli::RunCli(argc, argv); }
