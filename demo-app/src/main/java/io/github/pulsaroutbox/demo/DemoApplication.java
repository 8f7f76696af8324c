package io.github.pulsaroutbox.demo;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * An order service whose order events leave through the Pulsar outbox. Runs on H2 and, unless
 * {@code spring.pulsar.client.service-url} is set, on a Pulsar broker it starts itself.
 */
@SpringBootApplication
public class DemoApplication {

    public static void main(String[] args) {
        // the demo runs offline; set -Daxoniq.update-checker.disabled=false to allow Axon's update check
        if (System.getProperty("axoniq.update-checker.disabled") == null) {
            System.setProperty("axoniq.update-checker.disabled", "true");
        }
        SpringApplication.run(DemoApplication.class, args);
    }
}
