#include "services/layerstore/layerstore_service.h"
