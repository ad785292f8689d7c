// What this machine charges for the operations a put is made of, measured
// directly (no tracer in the way: `perf trace` and strace inflate each
// syscall several-fold). Built and run by bench/machine_costs.sh.
//   getpid, poll(0): a cheap syscall each (libzmq makes tens per request)
//   eventfd ping-pong: a wake-up of another thread and back (libzmq's
//     mailbox, the storage writer, the client's I/O thread)
//   append + fdatasync: a small log append made durable, alone on the disk:
//     growing the file (the size goes through ext4's journal too), and into
//     zeros written before (the data alone: corral's WAL, preallocated_wal.h)
//   three such writers at once, each on its own file, as three members on
//     one disk: the syncs the disk completes per second in all, and what one
//     costs then (a 3-member benchmark's commit rate cannot pass this)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int ping_fd, pong_fd;
enum { kRoundTrips = 20000 };

static void* ponger(void* unused) {
  (void)unused;
  uint64_t v;
  for (int i = 0; i < kRoundTrips; ++i) {
    if (read(ping_fd, &v, 8) != 8) return NULL;
    v = 1;
    if (write(pong_fd, &v, 8) != 8) return NULL;
  }
  return NULL;
}

enum { kParallelWriters = 3 };
static const char* parallel_base;
static double parallel_start_us, parallel_until_us;

struct Writer {
  int index;
  long syncs;
  int failed;
};

// Small synced writes into a file written before, until parallel_until_us.
static void* sync_writer(void* arg) {
  struct Writer* w = arg;
  char name[4096];
  snprintf(name, sizeof name, "%s.%d", parallel_base, w->index);
  int fd = open(name, O_CREAT | O_RDWR | O_TRUNC, 0644);
  char buf[1400];
  memset(buf, 'y', sizeof buf);
  enum { kSlots = 512 };
  for (int i = 0; fd >= 0 && i < kSlots; ++i) {
    if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) w->failed = 1;
  }
  if (fd < 0 || w->failed || fdatasync(fd) != 0) {
    w->failed = 1;
  } else {
    while (now_us() < parallel_start_us) usleep(1000);
    for (long i = 0; now_us() < parallel_until_us; ++i) {
      if (pwrite(fd, buf, sizeof buf, (off_t)(i % kSlots) * sizeof buf) != (ssize_t)sizeof buf ||
          fdatasync(fd) != 0) {
        w->failed = 1;
        break;
      }
      ++w->syncs;
    }
  }
  if (fd >= 0) close(fd);
  unlink(name);
  return NULL;
}

// Prints the syncs per second of kParallelWriters writers in all, and the
// mean time of one; 0 on success.
static int parallel_syncs(const char* base) {
  parallel_base = base;
  const double seconds = 2.0;
  pthread_t th[kParallelWriters];
  struct Writer w[kParallelWriters];
  parallel_start_us = now_us() + 300e3;  // after every writer has written its file
  parallel_until_us = parallel_start_us + seconds * 1e6;
  for (int i = 0; i < kParallelWriters; ++i) {
    w[i] = (struct Writer){i, 0, 0};
    pthread_create(&th[i], NULL, sync_writer, &w[i]);
  }
  long total = 0;
  int failed = 0;
  for (int i = 0; i < kParallelWriters; ++i) {
    pthread_join(th[i], NULL);
    total += w[i].syncs;
    failed |= w[i].failed;
  }
  if (failed || total == 0) {
    fprintf(stderr, "\nmachine_costs: the parallel writers failed on %s.*\n", base);
    return 1;
  }
  printf(" three_writers_fdatasyncs_per_s=%.0f three_writers_fdatasync_us=%.0f\n", total / seconds,
         kParallelWriters * seconds * 1e6 / total);
  return 0;
}

int main(int argc, char** argv) {
  const char* file = argc > 1 ? argv[1] : "machine_costs.tmp";
  const int n = 200000;
  double t = now_us();
  for (int i = 0; i < n; ++i) syscall(SYS_getpid);
  printf("getpid_us=%.2f", (now_us() - t) / n);
  struct pollfd p = {0, POLLIN, 0};
  t = now_us();
  for (int i = 0; i < n; ++i) poll(&p, 1, 0);
  printf(" poll0_us=%.2f", (now_us() - t) / n);

  ping_fd = eventfd(0, 0);
  pong_fd = eventfd(0, 0);
  pthread_t th;
  pthread_create(&th, NULL, ponger, NULL);
  uint64_t v = 1;
  t = now_us();
  for (int i = 0; i < kRoundTrips; ++i) {
    v = 1;
    if (write(ping_fd, &v, 8) != 8 || read(pong_fd, &v, 8) != 8) return 1;
  }
  printf(" wakeup_round_trip_us=%.1f", (now_us() - t) / kRoundTrips);
  pthread_join(th, NULL);

  int fd = open(file, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0) {
    fprintf(stderr, "\nmachine_costs: cannot create %s: %s\n", file, strerror(errno));
    return 1;
  }
  char buf[1400];
  memset(buf, 'x', sizeof buf);
  const int syncs = 500;
  t = now_us();
  for (int i = 0; i < syncs; ++i) {
    if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf || fdatasync(fd) != 0) {
      fprintf(stderr, "\nmachine_costs: writing %s: %s\n", file, strerror(errno));
      return 1;
    }
  }
  const double growing_us = (now_us() - t) / syncs;
  // The same appends again, over what is now written: the file keeps its size.
  t = now_us();
  for (int i = 0; i < syncs; ++i) {
    if (pwrite(fd, buf, sizeof buf, (off_t)i * sizeof buf) != (ssize_t)sizeof buf || fdatasync(fd) != 0) {
      fprintf(stderr, "\nmachine_costs: writing %s: %s\n", file, strerror(errno));
      return 1;
    }
  }
  printf(" append_fdatasync_us=%.0f into_written_fdatasync_us=%.0f", growing_us, (now_us() - t) / syncs);
  close(fd);
  unlink(file);
  return parallel_syncs(file);
}
