// The floor for an HTTP/1.1 load generator on this machine: the least work a
// closed-loop keep-alive client can do per request, to put loadgen's and wrk's
// requests per client CPU-second in context (floor.sh runs all three against
// the same nginx). It parses nothing: it learns the response's length from one
// request and counts bytes, which only works against a server whose responses
// are all the same length.
//
//   floor_client epoll|uring CONNECTIONS SECONDS PORT
//
// epoll: one epoll_wait per batch of ready connections, then per response one
//   recv and one send (the system calls loadgen makes; wrk adds two epoll_ctl).
// uring: io_uring, one io_uring_enter per batch that submits every send and
//   receive the batch made (the fewest kernel entries per request).
// Prints the number of responses received.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char request[128];
static size_t request_length;
static size_t response_length;

typedef struct {
  int fd;
  size_t buffered;  // bytes of responses received but not yet counted
  char buffer[4096];
} Connection;

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char* what) {
  perror(what);
  exit(1);
}

static int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (connect(fd, (struct sockaddr*)&address, sizeof address) != 0) die("connect");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// One request on its own connection, read until the server has sent it all
// (a short wait: nginx sends a small response in one segment).
static size_t learn_response_length(int port) {
  int fd = connect_to(port);
  if (write(fd, request, request_length) != (ssize_t)request_length) die("write");
  usleep(100 * 1000);
  char buffer[4096];
  ssize_t length = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
  if (length <= 0) die("recv of the first response");
  close(fd);
  return (size_t)length;
}

// Counts the whole responses buffered; returns how many requests to send.
static int take_responses(Connection* connection, size_t received) {
  connection->buffered += received;
  int complete = 0;
  while (connection->buffered >= response_length) {
    connection->buffered -= response_length;
    ++complete;
  }
  return complete;
}

static long run_epoll(Connection* connections, int count, double seconds) {
  int epoll_fd = epoll_create1(0);
  for (int i = 0; i < count; ++i) {
    struct epoll_event event = {.events = EPOLLIN, .data.u32 = (unsigned)i};
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, connections[i].fd, &event);
    send(connections[i].fd, request, request_length, MSG_DONTWAIT);
  }
  long responses = 0;
  const double end = now_seconds() + seconds;
  struct epoll_event events[256];
  while (now_seconds() < end) {
    int ready = epoll_wait(epoll_fd, events, 256, 1000);
    for (int k = 0; k < ready; ++k) {
      Connection* connection = &connections[events[k].data.u32];
      ssize_t received = recv(connection->fd, connection->buffer, sizeof connection->buffer, MSG_DONTWAIT);
      if (received <= 0) continue;
      int complete = take_responses(connection, (size_t)received);
      responses += complete;
      if (complete > 0) send(connection->fd, request, request_length, MSG_DONTWAIT);
    }
  }
  close(epoll_fd);
  return responses;
}

static void queue_recv(struct io_uring* ring, Connection* connections, int i) {
  struct io_uring_sqe* sqe = io_uring_get_sqe(ring);
  io_uring_prep_recv(sqe, connections[i].fd, connections[i].buffer, sizeof connections[i].buffer, 0);
  io_uring_sqe_set_data64(sqe, (unsigned long long)i);
}

static void queue_send(struct io_uring* ring, Connection* connections, int i) {
  struct io_uring_sqe* sqe = io_uring_get_sqe(ring);
  io_uring_prep_send(sqe, connections[i].fd, request, request_length, 0);
  sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;  // only a failed send completes
  io_uring_sqe_set_data64(sqe, 1ull << 32);
}

static long run_uring(Connection* connections, int count, double seconds) {
  struct io_uring ring;
  struct io_uring_params params;
  memset(&params, 0, sizeof params);
  // Completions are processed only when this thread enters the kernel (no
  // interrupts to run them): the cheapest mode the kernel offers (6.1+).
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  if (io_uring_queue_init_params(4 * (unsigned)count + 64, &ring, &params) != 0) die("io_uring_queue_init");
  for (int i = 0; i < count; ++i) {
    queue_send(&ring, connections, i);
    queue_recv(&ring, connections, i);
  }
  long responses = 0;
  const double end = now_seconds() + seconds;
  while (now_seconds() < end) {
    io_uring_submit_and_wait(&ring, 1);
    struct io_uring_cqe* cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      if (cqe->user_data >> 32) continue;  // a failed send
      int i = (int)(cqe->user_data & 0xffffffffu);
      if (cqe->res > 0) {
        int complete = take_responses(&connections[i], (size_t)cqe->res);
        responses += complete;
        if (complete > 0) queue_send(&ring, connections, i);
      }
      if (cqe->res != 0) queue_recv(&ring, connections, i);
    }
    io_uring_cq_advance(&ring, seen);
  }
  io_uring_queue_exit(&ring);
  return responses;
}

int main(int argc, char** argv) {
  if (argc != 5 || (strcmp(argv[1], "epoll") != 0 && strcmp(argv[1], "uring") != 0)) {
    fprintf(stderr, "usage: %s epoll|uring CONNECTIONS SECONDS PORT\n", argv[0]);
    return 2;
  }
  int count = atoi(argv[2]);
  double seconds = atof(argv[3]);
  int port = atoi(argv[4]);
  if (count <= 0 || seconds <= 0 || port <= 0) {
    fprintf(stderr, "%s: CONNECTIONS, SECONDS and PORT must be positive\n", argv[0]);
    return 2;
  }
  request_length = (size_t)snprintf(request, sizeof request, "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", port);
  response_length = learn_response_length(port);
  Connection* connections = calloc((size_t)count, sizeof *connections);
  if (connections == NULL) die("calloc");
  for (int i = 0; i < count; ++i) connections[i].fd = connect_to(port);
  long responses = strcmp(argv[1], "epoll") == 0 ? run_epoll(connections, count, seconds)
                                                 : run_uring(connections, count, seconds);
  for (int i = 0; i < count; ++i) close(connections[i].fd);
  free(connections);
  printf("%ld\n", responses);
  return 0;
}
