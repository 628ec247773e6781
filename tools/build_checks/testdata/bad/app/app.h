#pragma once
#include "lib/internal/secret.h"
