/* silo update: change the resource limits of a running container. */
#include <stdio.h>

#include "cmd/cmd.h"

static const char usage[] =
    "Usage: silo [global options] update [options] ID\n"
    "\n"
    "Changes the cgroup limits of the running container ID.\n"
    "\n"
    "Options:\n"
    "  -r, --resources FILE        a linux.resources JSON document (\"-\": standard input);\n"
    "                              when given, the flags below are ignored\n"
    "      --memory SIZE           memory limit (k, m, g suffixes; -1: none)\n"
    "      --memory-reservation SIZE\n"
    "      --memory-swap SIZE      memory plus swap limit\n"
    "      --kernel-memory SIZE, --kernel-memory-tcp SIZE\n"
    "      --cpu-shares N, --cpu-quota N, --cpu-period N\n"
    "      --cpu-rt-period N, --cpu-rt-runtime N\n"
    "      --cpuset-cpus LIST, --cpuset-mems LIST\n"
    "      --pids-limit N          maximum number of processes (<= 0: none)\n"
    "      --blkio-weight N        10..1000\n"
    "  -h, --help                  show this help\n";

enum {
  O_MEM = 256,
  O_MEMRES,
  O_SWAP,
  O_KMEM,
  O_KTCP,
  O_SHARES,
  O_QUOTA,
  O_PERIOD,
  O_RTPER,
  O_RTRUN,
  O_CPUS,
  O_MEMS,
  O_PIDS,
  O_BLKIO,
  O_RDT
};

int
cmd_update(struct silo_context *ctx, int argc, char **argv)
{
  static const struct option longs[] = {
      {"resources", required_argument, NULL, 'r'},
      {"memory", required_argument, NULL, O_MEM},
      {"memory-reservation", required_argument, NULL, O_MEMRES},
      {"memory-swap", required_argument, NULL, O_SWAP},
      {"kernel-memory", required_argument, NULL, O_KMEM},
      {"kernel-memory-tcp", required_argument, NULL, O_KTCP},
      {"cpu-shares", required_argument, NULL, O_SHARES},
      {"cpu-quota", required_argument, NULL, O_QUOTA},
      {"cpu-period", required_argument, NULL, O_PERIOD},
      {"cpu-rt-period", required_argument, NULL, O_RTPER},
      {"cpu-rt-runtime", required_argument, NULL, O_RTRUN},
      {"cpuset-cpus", required_argument, NULL, O_CPUS},
      {"cpuset-mems", required_argument, NULL, O_MEMS},
      {"pids-limit", required_argument, NULL, O_PIDS},
      {"blkio-weight", required_argument, NULL, O_BLKIO},
      /* runc's Intel RDT flags: known, so that the error says what is missing */
      {"l3-cache-schema", required_argument, NULL, O_RDT},
      {"mem-bw-schema", required_argument, NULL, O_RDT},
      {"help", no_argument, NULL, 'h'},
      {0},
  };
  struct silo_update_opts o = {0};
  int c;
  while ((c = cmd_getopt(argc, argv, "+r:h", longs)) != -1) {
    switch (c) {
    case 'r':
      o.resources = optarg;
      break;
    case O_MEM:
      o.memory = optarg;
      break;
    case O_MEMRES:
      o.memory_reservation = optarg;
      break;
    case O_SWAP:
      o.memory_swap = optarg;
      break;
    case O_KMEM:
      o.kernel_memory = optarg;
      break;
    case O_KTCP:
      o.kernel_memory_tcp = optarg;
      break;
    case O_SHARES:
      o.cpu_shares = optarg;
      break;
    case O_QUOTA:
      o.cpu_quota = optarg;
      break;
    case O_PERIOD:
      o.cpu_period = optarg;
      break;
    case O_RTPER:
      o.cpu_rt_period = optarg;
      break;
    case O_RTRUN:
      o.cpu_rt_runtime = optarg;
      break;
    case O_CPUS:
      o.cpuset_cpus = optarg;
      break;
    case O_MEMS:
      o.cpuset_mems = optarg;
      break;
    case O_PIDS:
      o.pids_limit = optarg;
      break;
    case O_BLKIO:
      o.blkio_weight = optarg;
      break;
    case O_RDT:
      return cmd_usage_error("update", "--l3-cache-schema, --mem-bw-schema: Intel RDT is not "
                                       "supported by silo");
    case 'h':
      return cmd_help(usage);
    default:
      return cmd_bad_option("update");
    }
  }
  if (cmd_need_args("update", argc, 1, "container ID")) return 1;
  o.id = argv[optind];
  struct silo_error err = {0};
  return silo_update(ctx, &o, &err) < 0 ? cmd_fail(&err) : 0;
}
