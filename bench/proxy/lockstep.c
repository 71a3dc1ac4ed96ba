/*
 * Keep-alive connections with one request in flight each (nonblocking sockets + epoll, as wrk), for
 * a fixed time; prints the latency percentiles of the requests as they were measured.
 *
 * Why not wrk's own: wrk corrects its histogram for coordinated omission (stats_correct adds, for
 * each request slower than twice the mean interval, synthetic samples at every interval below it),
 * so at one connection a single 1 ms pause becomes ~30 samples between 30 µs and 1 ms. Its c=1
 * "p99" then counts how long and how often a process paused, not how long requests took (measured:
 * wrk's latencies summed to 5.0–5.3 s over 4 s runs). At 64 connections the correction is smaller
 * but still weighs each stall by its length. Both views are printed by run.sh.
 *
 * "slow" is the share of requests that took more than twice the median, and "bursts" how many runs
 * of them there were (slow answers less than 300 µs apart are one burst): a process that pauses
 * delays every connection at once, so its slow requests come in bursts of about CONNS.
 *
 * Usage: lockstep PORT SECONDS [CONNS] [vary]   (CONNS defaults to 1)
 * `vary`: a new path and a new request id on every request, as vary-fields.lua sends them — with no
 * script engine in the client (wrk's Lua, per request, adds its own pauses to what it measures).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES 8000000
#define MAX_CONNS 1024
#define BUF_SIZE 65536

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

struct conn {
  int fd;
  int got;
  double t0;
  char buf[BUF_SIZE];
};

/* latency and completion time of every request, in completion order */
static double lat[MAX_SAMPLES], done_at[MAX_SAMPLES];
static double sorted[MAX_SAMPLES];

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: lockstep PORT SECONDS [CONNS]\n");
    return 2;
  }
  int port = atoi(argv[1]);
  double seconds = atof(argv[2]);
  int conns = argc > 3 ? atoi(argv[3]) : 1;
  int vary = argc > 4 && strcmp(argv[4], "vary") == 0;
  unsigned long counter = 0;
  if (conns < 1 || conns > MAX_CONNS) {
    fprintf(stderr, "lockstep: CONNS must be 1..%d\n", MAX_CONNS);
    return 2;
  }
  char req[256];
  int req_len = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", port);
#define NEXT_REQUEST() \
  if (vary) { \
    counter++; \
    req_len = snprintf(req, sizeof req, "GET /item/%lu HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: wrk\r\nAccept: application/json\r\nX-Request-Id: %lu\r\n\r\n", counter, port, counter); \
  }
  int ep = epoll_create1(0);
  struct conn *cs = calloc(conns, sizeof *cs);
  for (int i = 0; i < conns; i++) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, (struct sockaddr *)&addr, sizeof addr) != 0) {
      perror("lockstep: connect");
      return 1;
    }
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(s, F_SETFL, O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
    epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
    cs[i].fd = s;
  }
  for (int i = 0; i < conns; i++) {
    NEXT_REQUEST();
    cs[i].t0 = now_us();
    if (write(cs[i].fd, req, req_len) != req_len) {
      perror("lockstep: write");
      return 1;
    }
  }
  int n = 0;
  double end = now_us() + seconds * 1e6;
  struct epoll_event evs[MAX_CONNS];
  while (n < MAX_SAMPLES && now_us() < end) {
    int k = epoll_wait(ep, evs, MAX_CONNS, 5000);
    if (k <= 0) {
      fprintf(stderr, "lockstep: no answer within 5 s\n");
      return 1;
    }
    for (int j = 0; j < k && n < MAX_SAMPLES; j++) {
      struct conn *c = &cs[evs[j].data.u32];
      int r = read(c->fd, c->buf + c->got, BUF_SIZE - 1 - c->got);
      if (r < 0) continue;
      if (r == 0) {
        fprintf(stderr, "lockstep: connection closed\n");
        return 1;
      }
      c->got += r;
      c->buf[c->got] = 0;
      char *head_end = strstr(c->buf, "\r\n\r\n");
      if (!head_end) continue;
      char *cl = strcasestr(c->buf, "\r\ncontent-length:");
      int body = cl && cl < head_end ? atoi(cl + 17) : 0;
      if (c->got < (head_end - c->buf) + 4 + body) continue;
      double t = now_us();
      lat[n] = t - c->t0;
      done_at[n++] = t;
      c->got = 0;
      c->t0 = t;
      NEXT_REQUEST();
      if (write(c->fd, req, req_len) != req_len) {
        perror("lockstep: write");
        return 1;
      }
    }
  }
  if (n == 0) {
    fprintf(stderr, "lockstep: no request completed\n");
    return 1;
  }
  memcpy(sorted, lat, n * sizeof(double));
  qsort(sorted, n, sizeof(double), by_value);
  double slow_at = 2 * sorted[n / 2], last = -1e18;
  int slow = 0, bursts = 0;
  for (int i = 0; i < n; i++) {
    if (lat[i] <= slow_at) continue;
    slow++;
    if (done_at[i] - last > 300) bursts++;
    last = done_at[i];
  }
  printf("requests %d  p50 %.0f  p90 %.0f  p99 %.0f  p99.9 %.0f  max %.0f us", n, sorted[n / 2], sorted[n * 9 / 10], sorted[n * 99 / 100], sorted[n * 999 / 1000], sorted[n - 1]);
  if (conns > 1) printf("  slow %.2f%% in %d bursts", 100.0 * slow / n, bursts);
  printf("\n");
  return 0;
}
