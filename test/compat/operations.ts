// The operations both client libraries send (each parses them with its own gql), so the two
// compatibility tests ask the server exactly the same things.

export const VIEWER = `
  query Viewer {
    viewer {
      role
      tenant {
        id
        slug
      }
    }
  }
`;
export const PROJECTS = `
  query Projects($first: Int, $after: String) {
    projects(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          name
        }
      }
    }
  }
`;
export const CREATE_TASK = `
  mutation CreateTask($input: CreateTaskInput!) {
    createTask(input: $input) {
      id
      title
    }
  }
`;
export const TASK_CHANGED = `
  subscription TaskChanged($projectId: ID!) {
    taskChanged(projectId: $projectId) {
      kind
      task {
        id
        title
      }
    }
  }
`;
