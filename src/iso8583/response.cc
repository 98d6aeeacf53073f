#include "iso8583/response.h"

#include "iso8583/mti.h"

namespace tapstack::iso8583 {

Message ResponseTo(const Message& request, std::string_view response_code) {
  auto mti = ResponseMti(request.mti());
  Message response(mti.ok() ? *mti : std::string("0000"));
  for (int f : {2, 3, 4, 6, 7, 10, 11, 12, 13, 32, 33, 37, 41, 42, 49, 51}) {
    if (auto v = request.Get(f)) response.Set(f, *v);
  }
  response.Set(39, response_code);
  return response;
}

}  // namespace tapstack::iso8583
