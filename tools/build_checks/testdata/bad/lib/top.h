#pragma once
#include "lib/base.h"
