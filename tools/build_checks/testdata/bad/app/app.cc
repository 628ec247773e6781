#include "app/app.h"
#include "lib/base.h"
#include <vector>
