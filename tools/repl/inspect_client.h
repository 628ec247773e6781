// `repl ps PID` and `repl pstree PID`: the tasks of another aio process, read
// from its inspection socket (async/inspect.h; the process was started with
// AIO_INSPECT=1 or RunOptions::inspect), shown with task_view.h's table or
// tree, as Python 3.14's `python -m asyncio ps PID` / `pstree PID`.
//
// A plain blocking client (this is a command-line tool, not a loop): connect,
// send "tasks\n", read the one JSON line, with a 5 second limit.
#ifndef AIO_TOOLS_REPL_INSPECT_CLIENT_H_
#define AIO_TOOLS_REPL_INSPECT_CLIENT_H_

#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "async/call_graph.h"

namespace repl {

// What went wrong, in a sentence for the user ("process 123 is not an aio
// program started with AIO_INSPECT=1 (no socket at /tmp/aio-inspect-123.sock)").
class InspectError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The tasks of process `pid_text` (decimal). Throws InspectError for a bad pid,
// no such process, no socket, a refused or failed connection, a timeout, or an
// answer that is not the protocol.
std::vector<aio::TaskSnapshot> fetch_tasks(const std::string& pid_text);

// The "tasks" answer's JSON as snapshots. Throws InspectError if it is not one
// (including an {"error": ...} answer).
std::vector<aio::TaskSnapshot> parse_tasks_answer(const std::string& json);

// `ps PID` / `pstree PID` as main() runs them: prints on `out`, errors on `err`
// ("ps: ..."), and returns the exit status (0; 1 for an error; 2 for a usage
// error).
int run_inspect_command(const std::string& command, const std::vector<std::string>& arguments, std::ostream& out,
                        std::ostream& err);

}  // namespace repl

#endif  // AIO_TOOLS_REPL_INSPECT_CLIENT_H_
