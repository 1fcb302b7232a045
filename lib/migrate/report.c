/* silo: the report of `silo migrate` (text or JSON). */
#include <jansson.h>
#include <string.h>

#include "lib/base/error.h"
#include "lib/migrate/migrate.h"
#include "lib/silo.h"

static double
mib(unsigned long long b)
{
  return (double)b / 1048576.0;
}

static const char *
result_of(const struct silo_migrate_report *r)
{
  if (r->migrated) return "migrated";
  if (r->resumed_on_source) return "failed, running on the source";
  return r->work_dir[0] ? "failed, images kept" : "failed";
}

static char *
as_json(const struct silo_migrate_report *r, const struct silo_error *err)
{
  json_t *passes = json_array();
  for (unsigned i = 0; i < r->iterations && i < SILO_MIGRATE_MAX_ITER; i++) {
    double s = r->iter[i].seconds;
    json_array_append_new(passes, json_pack("{s:i, s:I, s:f, s:f}", "pass", (int)i + 1, "bytes",
                                            (json_int_t)r->iter[i].bytes, "seconds", s,
                                            "dirty_rate_bytes_per_s",
                                            s > 0 ? (double)r->iter[i].bytes / s : 0.0));
  }
  json_t *j = json_pack(
      "{s:s, s:s, s:b, s:b, s:f, s:f, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:i, s:o}", "strategy",
      r->strategy ? r->strategy : "?", "result", result_of(r), "migrated", r->migrated,
      "resumed_on_source", r->resumed_on_source, "total_s", r->total_s, "downtime_s", r->downtime_s,
      "dump_s", r->dump_s, "transfer_s", r->transfer_s, "restore_s", r->restore_s, "bytes_sent",
      (json_int_t)r->bytes_sent, "rootfs_bytes", (json_int_t)r->rootfs_bytes, "image_bytes",
      (json_int_t)r->image_bytes, "page_bytes", (json_int_t)r->page_bytes, "iterations",
      (int)r->iterations, "passes", passes);
  if (r->work_dir[0]) json_object_set_new(j, "images_kept_in", json_string(r->work_dir));
  if (r->network[0]) json_object_set_new(j, "network", json_string(r->network));
  if (err && err->msg[0]) {
    char buf[SILO_ERROR_MSG_MAX + 200];
    json_object_set_new(j, "error", json_string(silo_err_str(err, buf, sizeof buf)));
  }
  char *s = json_dumps(j, JSON_INDENT(2));
  json_decref(j);
  return s;
}

char *
silo_migrate_report_format(const struct silo_migrate_report *r, bool json,
                           const struct silo_error *err)
{
  if (json) return as_json(r, err);
  char *passes = xstrdup("");
  for (unsigned i = 0; i < r->iterations && i < SILO_MIGRATE_MAX_ITER; i++) {
    double s = r->iter[i].seconds;
    char *n = xasprintf("%s%s%.1f MiB", passes, i ? ", " : " (", mib(r->iter[i].bytes));
    free(passes);
    passes = n;
    if (i && s > 0) {
      n = xasprintf("%s at %.1f MiB/s", passes, mib(r->iter[i].bytes) / s);
      free(passes);
      passes = n;
    }
  }
  char *out = xasprintf("strategy     %s\n"
                        "result       %s\n"
                        "total time   %.3f s\n"
                        "downtime     %.3f s (dump %.3f s, transfer %.3f s, restore %.3f s)\n"
                        "bytes sent   %.1f MiB (rootfs %.1f MiB, images %.1f MiB, pages %.1f "
                        "MiB)\n"
                        "iterations   %u%s%s\n",
                        r->strategy ? r->strategy : "?", result_of(r), r->total_s, r->downtime_s,
                        r->dump_s, r->transfer_s, r->restore_s, mib(r->bytes_sent),
                        mib(r->rootfs_bytes), mib(r->image_bytes), mib(r->page_bytes),
                        r->iterations, passes, r->iterations ? ")" : "");
  free(passes);
  if (r->network[0]) {
    char *n = xasprintf("%snetwork      %s\n", out, r->network);
    free(out);
    out = n;
  }
  return out;
}
