/* silo: clocks.  Durations (timeouts, the migration report, the sandbox watchdog)
 * use CLOCK_MONOTONIC, which a change of the wall clock cannot shift; timestamps
 * (state.json's `created`, events) are UTC wall-clock time. */
#include <stdio.h>
#include <time.h>

#include "lib/base/base.h"

int64_t
time_mono_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double
time_mono_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
time_rfc3339(char *buf, size_t len)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  /* Computed here, not with gmtime_r/strftime: glibc's first call of either loads
   * the time zone (/etc/localtime, seven system calls on every create) for a UTC
   * time that needs none.  The civil date of a day count (days since 1970-01-01),
   * in 400-year eras of 146097 days that start on March 1st. */
  int64_t secs = ts.tv_sec, days = secs / 86400, rem = secs % 86400;
  if (rem < 0) rem += 86400, days--;
  int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;                                      /* [0, 146096] */
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
  int64_t mp = (5 * doy + 2) / 153;                                    /* March = 0 */
  int64_t day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9;
  int64_t year = yoe + era * 400 + (month <= 2);
  snprintf(buf, len, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%09ldZ", (long long)year,
           (long long)month, (long long)day, (long long)(rem / 3600), (long long)(rem % 3600 / 60),
           (long long)(rem % 60), ts.tv_nsec);
}
