#include "outer.h"
  #include "self.h"
#include "missing.h"
#include "
