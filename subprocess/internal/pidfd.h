// <sys/pidfd.h> for C++: glibc 2.36's header declares pidfd_open and
// pidfd_send_signal without extern "C" (fixed in later glibc), so C++ code
// that includes it directly looks for mangled names and fails to link.
#ifndef AIO_SUBPROCESS_INTERNAL_PIDFD_H_
#define AIO_SUBPROCESS_INTERNAL_PIDFD_H_

#include <signal.h>
#include <sys/wait.h>

extern "C" {
#include <sys/pidfd.h>
}

#endif  // AIO_SUBPROCESS_INTERNAL_PIDFD_H_
