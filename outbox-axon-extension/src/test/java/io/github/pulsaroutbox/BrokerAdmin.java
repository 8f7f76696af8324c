package io.github.pulsaroutbox;

import io.github.pulsaroutbox.testbroker.SharedPulsarBroker;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/** Calls to the shared test broker's admin REST API. */
public final class BrokerAdmin {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private BrokerAdmin() {
    }

    /** A {@code pulsar://} URL where no broker listens (a free port, closed again): an unreachable broker. */
    public static String unreachableServiceUrl() {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            return "pulsar://127.0.0.1:" + socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Creates a tenant allowed on the standalone cluster, and a namespace in it. */
    public static void createNamespace(String tenant, String namespace) {
        send("PUT", "/admin/v2/tenants/" + tenant, "{\"allowedClusters\":[\"standalone\"]}");
        send("PUT", "/admin/v2/namespaces/" + tenant + "/" + namespace, "{}");
    }

    /** Sends a request and asserts a 2xx answer. */
    public static HttpResponse<String> send(String method, String path, String jsonBody) {
        HttpResponse<String> response = call(method, path, jsonBody);
        assertThat(response.statusCode()).as(method + " " + path + ": " + response.body()).isBetween(200, 299);
        return response;
    }

    /** Sends a request and returns the answer, whatever its status. */
    public static HttpResponse<String> call(String method, String path, String jsonBody) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(SharedPulsarBroker.adminUrl() + path))
                                        .header("Content-Type", "application/json")
                                        .method(method, jsonBody == null ? HttpRequest.BodyPublishers.noBody()
                                                                         : HttpRequest.BodyPublishers.ofString(jsonBody))
                                        .build(),
                             HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
