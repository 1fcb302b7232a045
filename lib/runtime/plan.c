/* silo lib/runtime/: the plan's lifetime (see plan.h). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "lib/base/error.h"
#include "lib/runtime/plan.h"
#include "lib/runtime/process/process.h"
#include "oci/oci.h"

void
plan_init(struct container_plan *c)
{
  memset(c, 0, sizeof *c);
  for (int i = 0; i < OCI_NS_KINDS; i++) c->join_fd[i] = -1;
  c->host_mntns = -1;
  c->rootfd = c->procfd = c->rootdirfd = c->statefd = c->fifo_dirfd = -1;
  c->sync_parent = c->sync_child = c->pidfd = c->pty_master = c->exec_fifo_fd = c->notify_sock = -1;
  c->hook_io[0] = c->hook_io[1] = -1;
  c->sdnotify_sock = -1;
}

void
plan_free(struct container_plan *c)
{
  for (int i = 0; i < OCI_NS_KINDS; i++) close_fd(&c->join_fd[i]);
  close_fd(&c->rootfd);
  close_fd(&c->procfd);
  close_fd(&c->host_mntns);
  close_fd(&c->rootdirfd);
  close_fd(&c->statefd);
  close_fd(&c->fifo_dirfd);
  close_fd(&c->sync_parent);
  close_fd(&c->sync_child);
  close_fd(&c->pidfd);
  close_fd(&c->pty_master);
  hooks_close_output(c->hook_io);
  for (size_t i = 0; i < c->n_mounts; i++) plan_mount_free(&c->mounts[i]);
  free(c->mounts);
  free(c->rlimits);
  free(c->exec_path);
  free(c->state_json);
  free(c->cg_intent);
  free(c->bundle);
  free(c->rootfs);
  free(c->config_buf);
  free(c->exec_env);
  free(c->env);
  free(c->home_env);
  free(c->sdnotify_src);
  free(c->sdnotify_env);
  close_fd(&c->sdnotify_sock);
  free(c->exec_gids);
  for (size_t i = 0; i < ARRAY_SIZE(c->exec_capsets); i++) free(c->exec_capsets[i]);
  if (c->seccomp) silo_seccomp_free(c->seccomp);
  if (c->net) c->net_free(c->net);
  if (c->cg) cgroup_free(c->cg);
  if (c->cfg) oci_config_free(c->cfg);
  memset(c, 0, sizeof *c);
}

/* A decoded mount is part of the plan and goes with it. */
void
plan_mount_free(struct mount_plan *p)
{
  if (p->idmap_fd > 0) close(p->idmap_fd);
  p->idmap_fd = -1;
  if (p->tree_fd > 0) close(p->tree_fd);
  p->tree_fd = -1;
  free(p->data);
  free(p->owned_source);
  p->data = NULL;
  p->owned_source = NULL;
}
