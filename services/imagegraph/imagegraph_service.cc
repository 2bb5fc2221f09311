#include "services/imagegraph/imagegraph_service.h"
