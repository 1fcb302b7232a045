/* silo migrate / migrate-receive: move a running container to another host. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"

static const char migrate_usage[] =
    "Usage: silo [global options] migrate [options] ID HOST:PORT\n"
    "\n"
    "Moves the running container ID to the `silo migrate-receive` at HOST:PORT: its\n"
    "rootfs (only what the destination lacks), its CRIU images and its memory.  The\n"
    "container keeps its id there.  If anything fails before the destination confirms,\n"
    "the container keeps (or resumes) running here.  Progress goes to stderr when it is\n"
    "a terminal; the report to stdout.  Everything travels inside TLS 1.3 (a PSK\n"
    "derived from the token, or certificates).  See docs/migration.md.\n"
    "\n"
    "Options:\n"
    "      --strategy S          cold (default): freeze, dump, send, restore\n"
    "                            precopy: pre-dumps while it runs, then a short final\n"
    "                              dump (needs soft-dirty page tracking)\n"
    "                            postcopy: dump without memory, restore at once, pages\n"
    "                              on demand (needs userfaultfd)\n"
    "                            hybrid: one pre-dump pass, then postcopy\n"
    "      --token-file FILE     the secret shared with the receiver (required)\n"
    "      --tls-cert FILE       TLS with X.509 certificates instead of the PSK derived\n"
    "      --tls-key FILE          from the token: this host's certificate and key, and\n"
    "      --tls-ca FILE           the CA that signed the peer's (PEM; all three)\n"
    "      --format text|json    the report's format (default text)\n"
    "      --work-dir DIR        where the images are staged (default /var/tmp)\n"
    "      --max-iterations N    precopy: pre-dump passes at most (default 8)\n"
    "      --criu-timeout SECS   kill CRIU after SECS seconds (default 300; 0: never)\n"
    "      --timeout SECS        give up after SECS seconds without a word from the\n"
    "                            receiver (default 30)\n"
    "  -h, --help                show this help\n";

static const char receive_usage[] =
    "Usage: silo [global options] migrate-receive --listen ADDR:PORT [options]\n"
    "\n"
    "Waits for `silo migrate` from another host, receives one container (its bundle\n"
    "goes to BUNDLE_DIR/ID) and restores it under the same id.  Peers without the\n"
    "token are refused.  See docs/migration.md.\n"
    "\n"
    "Options:\n"
    "      --listen ADDR:PORT    where to listen (required)\n"
    "      --token-file FILE     the secret shared with the sources (required)\n"
    "      --tls-cert FILE       TLS with X.509 certificates instead of the PSK derived\n"
    "      --tls-key FILE          from the token: this host's certificate and key, and\n"
    "      --tls-ca FILE           the CA that signed the peer's (PEM; all three)\n"
    "      --root DIR            state directory (same as the global --root)\n"
    "      --bundle-dir DIR      bundles of received containers (default\n"
    "                            /var/lib/silo/migrate)\n"
    "      --cgroup-parent P     put received containers in the cgroup P/ID\n"
    "      --keep-listening      receive one migration after the other (until SIGTERM)\n"
    "      --criu-timeout SECS   kill CRIU after SECS seconds (default 300; 0: never)\n"
    "      --timeout SECS        give up after SECS seconds without a word from the\n"
    "                            source (default 30)\n"
    "  -h, --help                show this help\n";

enum {
  OPT_STRATEGY = 400,
  OPT_TOKEN,
  OPT_FORMAT,
  OPT_WORK,
  OPT_MAX_ITER,
  OPT_CRIU_TO,
  OPT_IDLE,
  OPT_LISTEN,
  OPT_ROOT,
  OPT_BUNDLE_DIR,
  OPT_CG_PARENT,
  OPT_KEEP,
  OPT_TLS_CERT,
  OPT_TLS_KEY,
  OPT_TLS_CA,
};

static int
parse_secs(const char *cmd, const char *opt, const char *arg, unsigned *out)
{
  if (!cmd_parse_uint(arg, out))
    return cmd_usage_error(cmd, "%s: `%s` is not a number of seconds", opt, arg);
  return 0;
}

/* The options both ends share: the token and the TLS files. */
static void
peer_option(int c, const char **token, const char **cert, const char **key, const char **ca)
{
  const char **to = c == OPT_TOKEN ? token : c == OPT_TLS_CERT ? cert : c == OPT_TLS_KEY ? key : ca;
  *to = optarg;
}

int
cmd_migrate(struct silo_context *ctx, int argc, char **argv)
{
  static const struct option longs[] = {
      {"strategy", required_argument, NULL, OPT_STRATEGY},
      {"token-file", required_argument, NULL, OPT_TOKEN},
      {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
      {"tls-key", required_argument, NULL, OPT_TLS_KEY},
      {"tls-ca", required_argument, NULL, OPT_TLS_CA},
      {"format", required_argument, NULL, OPT_FORMAT},
      {"work-dir", required_argument, NULL, OPT_WORK},
      {"max-iterations", required_argument, NULL, OPT_MAX_ITER},
      {"criu-timeout", required_argument, NULL, OPT_CRIU_TO},
      {"timeout", required_argument, NULL, OPT_IDLE},
      {"help", no_argument, NULL, 'h'},
      {0},
  };
  static const char *const strategies[] = {"cold", "precopy", "postcopy", "hybrid"};
  struct silo_migrate_opts o = {.criu_timeout = CMD_CRIU_TIMEOUT, .progress = isatty(2)};
  bool json = false;
  int c;
  while ((c = cmd_getopt(argc, argv, "+h", longs)) != -1) {
    switch (c) {
    case OPT_STRATEGY: {
      size_t i = 0;
      while (i < 4 && strcmp(optarg, strategies[i])) i++;
      if (i == 4)
        return cmd_usage_error("migrate",
                               "--strategy: `%s` is not cold, precopy, postcopy or "
                               "hybrid",
                               optarg);
      o.strategy = (enum silo_migrate_strategy)i;
      break;
    }
    case OPT_TOKEN:
    case OPT_TLS_CERT:
    case OPT_TLS_KEY:
    case OPT_TLS_CA:
      peer_option(c, &o.token_file, &o.tls_cert, &o.tls_key, &o.tls_ca);
      break;
    case OPT_FORMAT:
      if (strcmp(optarg, "json") && strcmp(optarg, "text"))
        return cmd_usage_error("migrate", "--format: `%s` is not text or json", optarg);
      json = strcmp(optarg, "json") == 0;
      break;
    case OPT_WORK:
      o.work_dir = optarg;
      break;
    case OPT_MAX_ITER:
      if (!cmd_parse_uint(optarg, &o.max_iterations) || o.max_iterations == 0 ||
          o.max_iterations > SILO_MIGRATE_MAX_ITER)
        return cmd_usage_error("migrate", "--max-iterations: `%s` is not 1..%d", optarg,
                               SILO_MIGRATE_MAX_ITER);
      break;
    case OPT_CRIU_TO:
      if (parse_secs("migrate", "--criu-timeout", optarg, &o.criu_timeout)) return 1;
      break;
    case OPT_IDLE:
      if (parse_secs("migrate", "--timeout", optarg, &o.idle_timeout)) return 1;
      break;
    case 'h':
      return cmd_help(migrate_usage);
    default:
      return cmd_bad_option("migrate");
    }
  }
  if (cmd_need_args("migrate", argc, 2, "container ID and HOST:PORT")) return 1;
  o.id = argv[optind];
  o.dest = argv[optind + 1];
  if (!o.token_file) return cmd_usage_error("migrate", "--token-file is required");
  struct silo_error err = {0};
  struct silo_migrate_report rep;
  int r = silo_migrate(ctx, &o, &rep, &err);
  char *text = silo_migrate_report_format(&rep, json, r < 0 ? &err : NULL);
  /* A failure before anything was attempted (bad id, no token...) has no report. */
  if (text && (r == 0 || json || rep.bytes_sent > 0)) printf("%s%s", text, json ? "\n" : "");
  free(text);
  fflush(stdout);
  return r < 0 ? cmd_fail(&err) : 0;
}

int
cmd_migrate_receive(struct silo_context *ctx, int argc, char **argv)
{
  static const struct option longs[] = {
      {"listen", required_argument, NULL, OPT_LISTEN},
      {"token-file", required_argument, NULL, OPT_TOKEN},
      {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
      {"tls-key", required_argument, NULL, OPT_TLS_KEY},
      {"tls-ca", required_argument, NULL, OPT_TLS_CA},
      {"root", required_argument, NULL, OPT_ROOT},
      {"bundle-dir", required_argument, NULL, OPT_BUNDLE_DIR},
      {"cgroup-parent", required_argument, NULL, OPT_CG_PARENT},
      {"keep-listening", no_argument, NULL, OPT_KEEP},
      {"criu-timeout", required_argument, NULL, OPT_CRIU_TO},
      {"timeout", required_argument, NULL, OPT_IDLE},
      {"help", no_argument, NULL, 'h'},
      {0},
  };
  struct silo_migrate_receive_opts o = {.criu_timeout = CMD_CRIU_TIMEOUT};
  int c;
  while ((c = cmd_getopt(argc, argv, "+h", longs)) != -1) {
    switch (c) {
    case OPT_LISTEN:
      o.listen = optarg;
      break;
    case OPT_TOKEN:
    case OPT_TLS_CERT:
    case OPT_TLS_KEY:
    case OPT_TLS_CA:
      peer_option(c, &o.token_file, &o.tls_cert, &o.tls_key, &o.tls_ca);
      break;
    case OPT_ROOT:
      ctx->root = optarg;
      break;
    case OPT_BUNDLE_DIR:
      o.bundle_dir = optarg;
      break;
    case OPT_CG_PARENT:
      if (optarg[0] != '/' || strstr(optarg, ".."))
        return cmd_usage_error("migrate-receive",
                               "--cgroup-parent: `%s` is not an absolute "
                               "cgroup path",
                               optarg);
      o.cgroup_parent = optarg;
      break;
    case OPT_KEEP:
      o.keep_listening = true;
      break;
    case OPT_CRIU_TO:
      if (parse_secs("migrate-receive", "--criu-timeout", optarg, &o.criu_timeout)) return 1;
      break;
    case OPT_IDLE:
      if (parse_secs("migrate-receive", "--timeout", optarg, &o.idle_timeout)) return 1;
      break;
    case 'h':
      return cmd_help(receive_usage);
    default:
      return cmd_bad_option("migrate-receive");
    }
  }
  if (cmd_need_args("migrate-receive", argc, 0, "")) return 1;
  if (!o.listen) return cmd_usage_error("migrate-receive", "--listen ADDR:PORT is required");
  if (!o.token_file) return cmd_usage_error("migrate-receive", "--token-file is required");
  struct silo_error err = {0};
  return silo_migrate_receive(ctx, &o, &err) < 0 ? cmd_fail(&err) : 0;
}
