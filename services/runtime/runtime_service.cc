#include "services/runtime/runtime_service.h"
