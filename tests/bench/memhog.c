/* memhog MIB DIRTY_MIB_PER_S OUTDIR [PORT]: holds MIB MiB, each page stamped with its
 * index, dirties pages at the given rate, checks random stamps, reports to
 * OUTDIR/status.  A ticker thread wakes every 1 ms and appends every gap of
 * CLOCK_REALTIME (which time namespaces do not shift) longer than 3 ms to
 * OUTDIR/gaps ("END_S.NS GAP_NS"): the downtime as the container lives it.  With
 * PORT, a thread echoes what TCP clients send.
 * memhog client IP PORT FILE: a client that sends 8 bytes every 10 ms and reads
 * them back, writing "ok N" (or "ERR ...") to FILE. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
static void
report(const char *dir, const char *name, const char *fmt, unsigned long a, unsigned long b)
{
  char tmp[512], path[512];
  snprintf(tmp, sizeof tmp, "%s/%s.new", dir, name);
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(tmp, "w");
  if (!f) return;
  fprintf(f, fmt, a, b);
  fclose(f);
  rename(tmp, path);
}
static const char *outdir;
static void *
ticker(void *arg)
{
  (void)arg;
  char path[512];
  snprintf(path, sizeof path, "%s/gaps", outdir);
  struct timespec prev, now, tick = {0, 1000 * 1000};
  clock_gettime(CLOCK_REALTIME, &prev);
  for (;;) {
    nanosleep(&tick, NULL);
    clock_gettime(CLOCK_REALTIME, &now);
    long long gap = (now.tv_sec - prev.tv_sec) * 1000000000LL + (now.tv_nsec - prev.tv_nsec);
    if (gap > 3000000) {
      char l[64];
      int n = snprintf(l, sizeof l, "%lld.%09ld %lld\n", (long long)now.tv_sec, now.tv_nsec, gap);
      int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
      if (fd >= 0) {
        if (write(fd, l, n) < 0) {
        }
        close(fd);
      }
      clock_gettime(CLOCK_REALTIME, &now);
    }
    prev = now;
  }
  return NULL;
}
static void *
echo_conn(void *arg)
{
  int c = (int)(intptr_t)arg;
  char buf[4096];
  ssize_t n;
  while ((n = read(c, buf, sizeof buf)) > 0)
    if (write(c, buf, n) != n) break;
  close(c);
  return NULL;
}
static void *
echo(void *arg)
{
  int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(arg))};
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 8) < 0) exit(4);
  for (;;) {
    int c = accept(l, NULL, NULL);
    pthread_t t;
    if (c >= 0 && pthread_create(&t, NULL, echo_conn, (void *)(intptr_t)c) == 0) pthread_detach(t);
  }
  return NULL;
}
static int
client(const char *ip, const char *port, const char *file)
{
  char dir[512], *slash;
  snprintf(dir, sizeof dir, "%s", file);
  if (!(slash = strrchr(dir, '/'))) return 2;
  *slash = 0;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(port))};
  inet_pton(AF_INET, ip, &a.sin_addr);
  int s = -1;
  for (int i = 0; i < 100; i++) {
    s = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) break;
    close(s), s = -1;
    usleep(50000);
  }
  if (s < 0) {
    report(dir, slash + 1, "ERR connect %lu %lu\n", errno, 0);
    return 1;
  }
  for (unsigned long n = 1;; n++) {
    char out[8], in[8];
    memcpy(out, &n, 8);
    ssize_t got = 0, r = 0;
    if (write(s, out, 8) != 8) {
      report(dir, slash + 1, "ERR write %lu %lu\n", errno, n);
      return 1;
    }
    while (got < 8 && (r = read(s, in + got, 8 - got)) > 0) got += r;
    if (got != 8 || memcmp(in, out, 8)) {
      report(dir, slash + 1, "ERR read %lu %lu\n", r < 0 ? errno : 0, n);
      return 1;
    }
    if (n % 20 == 0) report(dir, slash + 1, "ok %lu %lu\n", n, 0);
    usleep(10000);
  }
}
int
main(int argc, char **argv)
{
  if (argc == 5 && strcmp(argv[1], "client") == 0) return client(argv[2], argv[3], argv[4]);
  if (argc != 4 && argc != 5) return 2;
  outdir = argv[3];
  pthread_t t;
  if (pthread_create(&t, NULL, ticker, NULL) != 0) return 3;
  if (argc == 5 && pthread_create(&t, NULL, echo, argv[4]) != 0) return 3;
  size_t pages = (size_t)atol(argv[1]) * 256, cursor = 0;
  double per_tick = atof(argv[2]) * 256 / 100; /* pages per 10 ms */
  uint64_t *m =
      mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return 3;
  for (size_t i = 0; i < pages; i++) m[i * 512] = i, m[i * 512 + 511] = ~i;
  unsigned long gen = 0, seed = 12345;
  double debt = 0;
  report(outdir, "status", "ready %lu %lu\n", pages, 0);
  for (;;) {
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
    for (debt += per_tick; debt >= 1; debt--) {
      m[cursor * 512 + 1 + gen % 500] = gen;
      cursor = (cursor + 1) % pages;
    }
    for (int k = 0; k < 64; k++) {
      seed = seed * 6364136223846793005UL + 1442695040888963407UL;
      size_t p = (seed >> 17) % pages;
      if (m[p * 512] != p || m[p * 512 + 511] != ~(uint64_t)p) {
        report(outdir, "status", "CORRUPT page %lu gen %lu\n", p, gen);
        return 1;
      }
    }
    if (++gen % 20 == 0) report(outdir, "status", "ok %lu %lu\n", gen, pages);
  }
}
