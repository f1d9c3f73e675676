/* being written */
#include "pw_common.h"
