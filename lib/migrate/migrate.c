/* silo: `migrate` — move a running container to a `silo migrate-receive`.
 *
 * The top level: the steps below, each in lib/migrate/src.c but the postcopy
 * switch (lib/migrate/lazy.c).  Kept apart from both so that they depend on
 * each other one way only (lazy.c uses src.c's pieces; this file uses both).
 *
 *   1. checks (running, detached, no terminal, what the strategy needs), the
 *      token, connect, authenticate, OFFER (id, strategy, config) -> ACCEPT
 *   2. rootfs: manifest, the receiver asks for what it lacks (the container runs)
 *   3. precopy / hybrid: pre-dump passes, each sent while the container runs
 *   4. the freeze: the final dump (postcopy: without memory, CRIU then serves the
 *      pages); a writable rootfs gets a second, incremental pass; the images go
 *   5. RESTORE -> RESTORED (the downtime ends) -> COMMIT -> DONE
 *      postcopy: the pages flow through the tunnel until every one has moved
 *
 * Failures: before the final dump the container simply keeps running.  After it,
 * until the destination confirms (RESTORED), the container is restored here from
 * the local images (cold, precopy) or CRIU's lazy dump is made to fail, which
 * resumes the frozen tasks (postcopy, hybrid).  A guardian process does the local
 * restore if silo itself dies in that window.  The receiver deletes a container
 * whose COMMIT never came, so it never runs on both hosts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/base/base.h"
#include "lib/criu/criu.h"
#include "lib/migrate/migrate.h"
#include "lib/runtime/create/create.h"
#include "lib/runtime/plan.h"
#include "lib/silo.h"

static const char *const strategy_names[] = {"cold", "precopy", "postcopy", "hybrid"};

int
silo_migrate(struct silo_context *ctx, const struct silo_migrate_opts *o,
             struct silo_migrate_report *rep, struct silo_error *err)
{
  struct src s = {.ctx = ctx, .o = o, .rep = rep, .stage.fd = -1};
  memset(rep, 0, sizeof *rep);
  s.c.fd = -1;
  s.guard.pid = -1;
  rep->strategy = strategy_names[o->strategy];
  s.lazy = o->strategy == SILO_MIGRATE_POSTCOPY || o->strategy == SILO_MIGRATE_HYBRID;
  s.t0 = s.rate_at = time_mono_s();
  /* the dump helper writes the time of the freeze here */
  s.frozen_at =
      mmap(NULL, sizeof *s.frozen_at, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (s.frozen_at == MAP_FAILED) s.frozen_at = NULL;
  int ret = -1;
  /* Its helpers restore the container here when the migration fails: from the
   * sealed copy already, should the container need one (cloned.c) */
  if (cloned_ensure_sealed(err) < 0) goto out;
  mig_catch_signals();
  mig_interrupted = 0;
  if (src_load_container(&s, err) < 0) goto out;
  if ((o->strategy == SILO_MIGRATE_PRECOPY || o->strategy == SILO_MIGRATE_HYBRID) &&
      !mig_criu_feature(ctx, "mem_dirty_track")) {
    silo_err(err, ENOTSUP,
             "%s needs soft-dirty page tracking, which this host lacks (`criu "
             "check --feature mem_dirty_track` fails): use cold or postcopy",
             rep->strategy);
    goto out;
  }
  if (s.lazy && mig_lazy_pipe_check(err) < 0) goto out;
  /* CRIU's probes now, while the container runs, not after the freeze */
  criu_prepare(ctx->criu && *ctx->criu ? ctx->criu : NULL);
  const char *base = o->work_dir ? o->work_dir : "/var/tmp";
  s.work = xasprintf("%s/silo-migrate-%s-XXXXXX", base, s.st.id);
  if (!mkdtemp(s.work)) {
    silo_err(err, errno, "work directory `%s`", s.work);
    free(s.work), s.work = NULL;
    goto out;
  }
  snprintf(rep->work_dir, sizeof rep->work_dir, "%s", s.work);
  /* Postcopy's images (no memory in them) on a private tmpfs: nothing of them
   * on disk, and gone with this process and its helpers whatever happens. */
  if (o->strategy == SILO_MIGRATE_POSTCOPY) {
    struct silo_error serr = {0};
    if (mig_stage_open(&s.stage, &serr) == 0)
      s.images = s.stage.path;
    else
      silo_log_debug("migrate: images on disk: %s", serr.msg);
  }
  if (src_handshake(&s, err) < 0 || src_sync_rootfs(&s, false, err) < 0) goto out;
  if (o->strategy == SILO_MIGRATE_PRECOPY || o->strategy == SILO_MIGRATE_HYBRID) {
    if (src_predump(&s, o->max_iterations ? o->max_iterations : 8, err) < 0) goto out;
  }
  ret = s.lazy ? src_postcopy_switch(&s, err) : src_cold_switch(&s, err);
  if (ret == 0) {
    rep->migrated = true;
    if (!rep->downtime_s) rep->downtime_s = time_mono_s() - s.t_freeze;
  }
out:
  if (o->progress) fprintf(stderr, "\r\033[K"), fflush(stderr);
  mig_guard_release(&s.guard);
  rep->total_s = time_mono_s() - s.t0;
  /* the breakdown, on the clock of downtime_s */
  if (rep->downtime_s > 0 && s.t_restore > 0) {
    rep->transfer_s = s.t_restore - s.t_freeze - rep->dump_s;
    if (rep->transfer_s < 0) rep->transfer_s = 0;
  }
  rep->restore_s = rep->downtime_s - rep->dump_s - rep->transfer_s;
  if (rep->restore_s < 0) rep->restore_s = 0;
  if (s.frozen_at) munmap(s.frozen_at, sizeof *s.frozen_at);
  rep->bytes_sent = s.c.sent;
  mig_conn_close(&s.c);
  mig_tls_creds_free(s.tls);
  mig_manifest_free(&s.man);
  if (s.work && !s.keep_work) {
    src_remove_work(s.work);
    rep->work_dir[0] = '\0';
  }
  mig_stage_close(&s.stage);
  free(s.work);
  free(s.parent);
  free(s.config);
  if (s.net) json_decref(s.net);
  if (ret < 0 && s.st.id) rep->resumed_on_source = src_container_running(&s);
  if (ret < 0 && rep->resumed_on_source) src_net_quiet(&s, false); /* its veth up again */
  if (s.st.id) state_free(&s.st);
  return ret < 0 ? silo_err_wrap(err, "migrate `%s`", o->id) : 0;
}
