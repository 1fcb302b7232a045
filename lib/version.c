/* silo: what this build supports, for --version (crun-style feature flags). */
#include "core.h"

const char *
silo_feature_line(void)
{
  return "+SECCOMP +CAP +CGROUPFS +USERNS +TIMENS +CLONE3 +OPENAT2 +NEWMOUNTAPI";
}
