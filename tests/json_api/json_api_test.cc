// The shared JSON API conventions: error replies per ErrorCode with the field named, bodies
// checked member by member, the admin bearer token.
#include "json_api/json_api.h"

#include <gtest/gtest.h>
#include <httplib.h>

namespace tapstack::json_api {
namespace {

nlohmann::json BodyOf(const httplib::Response& res) { return nlohmann::json::parse(res.body); }

TEST(JsonApiTest, StatusesMapToHttpWithTheField) {
  struct Case {
    Status status;
    int http;
    const char* error;
  };
  const Case cases[] = {
      {InvalidArgument("amount.minor: expected an integer > 0"), 400, "invalid_argument"},
      {OutOfRange("daily_max_minor: level 1 allows 200000 a day"), 422, "limit_exceeded"},
      {NotFound("account: a0 not found"), 404, "not_found"},
      {FailedPrecondition("balance: 100 available, 200 requested"), 409, "failed_precondition"},
      {AlreadyExists("idempotency_key: already used"), 409, "already_exists"},
      {Unavailable("card rail: no answer"), 503, "unavailable"},
  };
  for (const Case& c : cases) {
    httplib::Response res;
    ReplyStatus(res, c.status);
    EXPECT_EQ(res.status, c.http) << c.status.ToString();
    const auto body = BodyOf(res);
    EXPECT_EQ(body["error"], c.error);
    EXPECT_EQ(body["message"], c.status.message());
    if (c.http != 503) {
      EXPECT_EQ(body["field"], FieldOf(c.status.message()));
    }
  }
  EXPECT_EQ(FieldOf("amount.minor: expected"), "amount.minor");
  EXPECT_EQ(FieldOf("levels[1].daily_max_minor: x"), "levels[1].daily_max_minor");
  EXPECT_EQ(FieldOf("the card rail did not answer: retry"), "");
}

TEST(JsonApiTest, InternalErrorsShowTheCodeOnly) {
  httplib::Response res;
  ReplyStatus(res, Corruption("page 7 of /var/lib/tapstack/qrpay.db: checksum mismatch"));
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(BodyOf(res)["message"], "corruption");
  EXPECT_FALSE(BodyOf(res).contains("field"));
}

TEST(JsonApiTest, BodiesAreObjectsOfKnownMembersWithinTheLimit) {
  httplib::Request req;
  req.body = R"({"amount": 5, "extra": true})";
  EXPECT_EQ(ParseBody(req, {"amount"}, 1024).status().message(), "extra: unknown member");
  EXPECT_TRUE(ParseBody(req, {"amount", "extra"}, 1024).ok());
  EXPECT_TRUE(ParseBody(req, {"amount", "extra"}, 10).status().message().starts_with("body: larger"));
  req.body = "[1, 2]";
  EXPECT_EQ(ParseBody(req, {}, 1024).status().message(), "body: expected a JSON object");
  req.body = "{";
  EXPECT_EQ(ParseBody(req, {}, 1024).status().message(), "body: expected a JSON object");
  req.body = "";
  EXPECT_EQ(*ParseBody(req, {}, 1024), nlohmann::json::object());

  const nlohmann::json body = {{"name", "Li"}, {"n", 5}};
  EXPECT_EQ(*StringMember(body, "name", true), "Li");
  EXPECT_EQ(*StringMember(body, "absent", false), "");
  EXPECT_EQ(StringMember(body, "absent", true).status().message(), "absent: required");
  EXPECT_EQ(StringMember(body, "n", false).status().message(), "n: expected a string");
}

TEST(JsonApiTest, TheBearerTokenIsRequiredAndExact) {
  httplib::Request req;
  httplib::Response res;
  EXPECT_FALSE(CheckBearer(req, res, "s3cret-admin-token"));
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(res.get_header_value("WWW-Authenticate"), "Bearer");
  req.set_header("Authorization", "Bearer s3cret-admin-tokeN");
  httplib::Response wrong;
  EXPECT_FALSE(CheckBearer(req, wrong, "s3cret-admin-token"));
  httplib::Request good;
  good.set_header("Authorization", "Bearer s3cret-admin-token");
  httplib::Response ok;
  EXPECT_TRUE(CheckBearer(good, ok, "s3cret-admin-token"));
  // An empty configured token refuses everyone, even "Bearer ".
  httplib::Request empty;
  empty.set_header("Authorization", "Bearer ");
  httplib::Response refused;
  EXPECT_FALSE(CheckBearer(empty, refused, ""));
}

}  // namespace
}  // namespace tapstack::json_api
