package com.example.plain;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** docs/configuration.md ("Plain Axon") shows this project's files as they are. */
class DocsExampleTest {

    private static final Path DOC = Path.of("..", "..", "docs", "configuration.md");

    @Test
    void theDocShowsTheApplicationClass() throws Exception {
        assertThat(Files.readString(DOC)).contains(
                "```java\n" + Files.readString(Path.of("src/main/java/com/example/plain/ShopApplication.java"))
                        + "```");
    }

    @Test
    void theDocShowsTheDependencies() throws Exception {
        String pom = Files.readString(Path.of("pom.xml"));
        String dependencies = pom.substring(pom.indexOf("    <dependencyManagement>"), pom.indexOf("    <build>"));
        assertThat(Files.readString(DOC)).contains("```xml\n" + dependencies + "```");
    }
}
