#!/usr/bin/python3
"""Lists the services and methods of a running gRPC server through server reflection.

A client that shares no code with Strata: Debian's python3-grpcio, and the reflection
messages encoded and decoded by hand from their wire format. Usage:

    reflection_check.py HOST:PORT [EXPECTED_SERVICE ...]

Prints "service/method" lines; exits 1 when an expected service is not listed or has no
methods.
"""
import sys

import grpc

REFLECTION_METHOD = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"


def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def string_field(number, text):
    data = text.encode()
    return varint(number << 3 | 2) + varint(len(data)) + data


def fields(data):
    """Yields (field number, value) of a protobuf message; value is bytes or int."""
    i = 0
    while i < len(data):
        key, i = read_varint(data, i)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, i = read_varint(data, i)
        elif wire_type == 2:
            length, i = read_varint(data, i)
            value, i = data[i:i + length], i + length
        elif wire_type == 1:
            value, i = data[i:i + 8], i + 8
        elif wire_type == 5:
            value, i = data[i:i + 4], i + 4
        else:
            raise ValueError("unsupported wire type %d" % wire_type)
        yield number, value


def read_varint(data, i):
    result = shift = 0
    while True:
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, i


def ask(channel, request):
    call = channel.stream_stream(REFLECTION_METHOD,
                                 request_serializer=lambda b: b,
                                 response_deserializer=lambda b: b)
    for response in call(iter([request]), timeout=10):
        for number, value in fields(response):
            if number == 7:
                raise RuntimeError("reflection error: %r" % value)
            if number in (4, 6):
                return number, value
    raise RuntimeError("no reflection response")


def list_services(channel):
    _, body = ask(channel, string_field(7, ""))
    names = []
    for number, service in fields(body):
        if number == 1:
            names += [v.decode() for n, v in fields(service) if n == 1]
    return names


def list_methods(channel, service):
    _, body = ask(channel, string_field(4, service))
    methods = []
    for number, file_bytes in fields(body):
        if number != 1:
            continue
        package = ""
        for n, v in fields(file_bytes):
            if n == 2:
                package = v.decode()
        for n, v in fields(file_bytes):
            if n != 6:
                continue
            name = [x.decode() for k, x in fields(v) if k == 1][0]
            full = package + "." + name if package else name
            if full != service:
                continue
            for k, method in fields(v):
                if k == 2:
                    methods += [x.decode() for j, x in fields(method) if j == 1]
    return methods


def main():
    address, expected = sys.argv[1], sys.argv[2:]
    with grpc.insecure_channel(address) as channel:
        services = list_services(channel)
        ok = True
        for service in services:
            for method in list_methods(channel, service):
                print("%s/%s" % (service, method))
        for service in expected:
            if service not in services:
                print("MISSING service %s (listed: %s)" % (service, services))
                ok = False
            elif not list_methods(channel, service):
                print("NO METHODS for %s" % service)
                ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
