package io.github.pulsaroutbox.pulsar;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Deduplication settings from the broker's admin REST API over plain HTTP: the topic's applied setting; for a topic
 * that does not exist yet its namespace's policy, else the broker's {@code brokerDeduplicationEnabled}.
 */
final class AdminRestDeduplicationSettings implements DeduplicationSettings {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String adminUrl;
    private final HttpClient http;

    AdminRestDeduplicationSettings(String adminUrl) {
        this.adminUrl = Objects.requireNonNull(adminUrl, "adminUrl").replaceAll("/+$", "");
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @Override
    public Optional<Boolean> applied(String topic) throws IOException, InterruptedException {
        String[] domainAndPath = topic.split("://", 2);
        HttpResponse<String> ofTopic = get("/admin/v2/" + domainAndPath[0] + "/" + domainAndPath[1]
                                                   + "/deduplicationEnabled?applied=true");
        if (ofTopic.statusCode() == 200) {
            return parse(ofTopic);
        }
        // 404: no such topic yet (what it will get when it is created); 405: topic-level policies are disabled on
        // this broker (what the topic has is its namespace's, else the broker's)
        if (ofTopic.statusCode() != 404 && ofTopic.statusCode() != 405) {
            throw refused(ofTopic);
        }
        String[] parts = domainAndPath[1].split("/");
        HttpResponse<String> ofNamespace = get("/admin/v2/namespaces/" + parts[0] + "/" + parts[1] + "/deduplication");
        if (ofNamespace.statusCode() != 200 && ofNamespace.statusCode() != 204) { // 204: the namespace sets none
            throw refused(ofNamespace);
        }
        Optional<Boolean> namespaceSetting = parse(ofNamespace);
        if (namespaceSetting.isPresent()) {
            return namespaceSetting;
        }
        HttpResponse<String> ofBroker = get("/admin/v2/brokers/configuration/runtime");
        if (ofBroker.statusCode() != 200) {
            throw refused(ofBroker);
        }
        JsonNode enabled = JSON.readTree(ofBroker.body()).get("brokerDeduplicationEnabled");
        return enabled == null ? Optional.empty() : Optional.of(Boolean.parseBoolean(enabled.asText()));
    }

    @Override
    public String describe() {
        return "admin API at " + adminUrl;
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(adminUrl + path)).timeout(Duration.ofSeconds(10)).GET()
                                    .build(),
                         HttpResponse.BodyHandlers.ofString());
    }

    private static Optional<Boolean> parse(HttpResponse<String> response) throws IOException {
        String body = response.body() == null ? "" : response.body().trim();
        return switch (body) {
            case "", "null" -> Optional.empty();
            case "true" -> Optional.of(Boolean.TRUE);
            case "false" -> Optional.of(Boolean.FALSE);
            default -> throw new IOException(response.request().uri() + " answered '" + abbreviate(body) + "'");
        };
    }

    private static IOException refused(HttpResponse<String> response) {
        return new IOException(response.request().uri() + " answered HTTP " + response.statusCode()
                                       + (response.body() == null || response.body().isBlank()
                                          ? "" : ": " + abbreviate(response.body().trim())));
    }

    private static String abbreviate(String text) {
        return text.length() <= 200 ? text : text.substring(0, 200) + "…";
    }
}
