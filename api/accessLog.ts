// The stage's access log line: one JSON object per request, written by API Gateway (also for the
// requests it answers itself: 403 without a key, 429 over a limit), so CloudWatch Logs Insights
// can query its fields. Variables:
// docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-variables-for-access-logging.html

/**
 * API Gateway fills in each `$context` variable and writes the text as it is, so every value is
 * quoted to keep the line valid JSON: numbers arrive as strings ("12"), and a value the request
 * does not have is "-". Both request ids, as AWS recommends: `requestId` is API Gateway's (the
 * function's log line carries it as `apiGatewayRequestId`, next to the Lambda request id),
 * `extendedRequestId` the one AWS Support asks for. The User-Agent is left out: it is any text the
 * client sends, and AWS does not document that a quote in it is escaped (a 2022 report,
 * DataBiosphere/azul#4348, saw such values break the JSON).
 */
export const ACCESS_LOG_FORMAT = JSON.stringify({
    requestId: "$context.requestId",
    extendedRequestId: "$context.extendedRequestId",
    requestTime: "$context.requestTime",
    sourceIp: "$context.identity.sourceIp",
    apiKeyId: "$context.identity.apiKeyId",
    httpMethod: "$context.httpMethod",
    resourcePath: "$context.resourcePath",
    path: "$context.path",
    protocol: "$context.protocol",
    status: "$context.status",
    responseLength: "$context.responseLength",
    integrationLatency: "$context.integrationLatency",
    responseLatency: "$context.responseLatency",
    errorMessage: "$context.error.message",
});
